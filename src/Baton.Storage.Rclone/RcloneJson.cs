using System.Text.Json.Serialization;

namespace Baton.Storage.Rclone;

/// <summary>One entry of <c>rclone lsjson</c>.</summary>
internal sealed record RcloneEntry(string Path, long Size, bool IsDir);

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(RcloneEntry))]
[JsonSerializable(typeof(List<RcloneEntry>))]
internal sealed partial class RcloneJson : JsonSerializerContext;
