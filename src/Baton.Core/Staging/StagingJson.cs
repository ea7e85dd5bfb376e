using System.Text.Json.Serialization;

namespace Baton.Staging;

/// <summary>Source-generated JSON for the staging cache's files.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SourceRecord))]
[JsonSerializable(typeof(DownloadState))]
internal sealed partial class StagingJson : JsonSerializerContext;
