using System.Text.Json;
using System.Text.Json.Serialization;
using Baton.Index;

namespace Baton.Repositories;

/// <summary>Source-generated JSON for every object Baton stores (trimming- and AOT-safe).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false)]
[JsonSerializable(typeof(RepositoryConfig))]
[JsonSerializable(typeof(IndexFile))]
[JsonSerializable(typeof(SnapshotManifest))]
internal sealed partial class BatonJson : JsonSerializerContext
{
    /// <summary>The same contracts, indented, for objects people read (the config).</summary>
    public static BatonJson Indented { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    });
}
