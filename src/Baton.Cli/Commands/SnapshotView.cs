using System.Text.Json.Serialization;
using Baton.Repositories;

namespace Baton.Cli.Commands;

/// <summary>The JSON shape of a snapshot in <c>ls --json</c> and <c>push --json</c>; stable for tooling.</summary>
internal sealed record SnapshotView(
    string Id, string Run, long Sequence, long? Step, DateTimeOffset Created, string Host,
    long Files, long Bytes, long BytesRead, long BytesNew, long BytesStored, double Seconds)
{
    public static SnapshotView From(Snapshot s) => new(
        s.Id, s.Run, s.Sequence, s.Manifest.Step, s.Manifest.Created, s.Manifest.Host,
        s.Manifest.Stats.Files, s.Manifest.Stats.Bytes, s.Manifest.Stats.BytesRead, s.Manifest.Stats.BytesNew, s.Manifest.Stats.BytesStored, s.Manifest.Stats.Seconds);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(SnapshotView))]
[JsonSerializable(typeof(List<SnapshotView>))]
internal sealed partial class CliJson : JsonSerializerContext;
