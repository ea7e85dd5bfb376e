using System.Text.Json.Serialization;

namespace Baton.Storage.Rclone;

/// <summary>One entry of <c>rclone lsjson</c>; <see cref="ModTime"/> is absent when rclone is told not to read it.</summary>
internal sealed record RcloneEntry(string Path, long Size, bool IsDir, DateTimeOffset? ModTime = null);

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(RcloneEntry))]
[JsonSerializable(typeof(List<RcloneEntry>))]
internal sealed partial class RcloneJson : JsonSerializerContext;
