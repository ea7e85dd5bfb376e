using System.Text.Json.Serialization;

namespace Baton.Journal;

/// <summary>Source-generated JSON for the journal's records.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false)]
[JsonSerializable(typeof(Leg))]
internal sealed partial class JournalJson : JsonSerializerContext;
