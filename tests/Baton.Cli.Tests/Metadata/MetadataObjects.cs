using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ZstdSharp;

namespace Baton.Tests.Metadata;

/// <summary>
/// Reads and forges metadata objects of an unencrypted folder repository the way docs/FORMAT.md describes the
/// envelope (<c>"BTNMETA1" | codec 1 | SHA-256 of payload | zstd(JSON)</c>), independently of the code under test.
/// </summary>
internal static class MetadataObjects
{
    private const int HeaderSize = 8 + 1 + 32;

    /// <summary>The JSON inside an object.</summary>
    public static JsonObject Read(string path)
    {
        var data = File.ReadAllBytes(path);
        Assert.Equal("BTNMETA1", Encoding.ASCII.GetString(data, 0, 8));
        using var decompressor = new Decompressor();
        return JsonNode.Parse(decompressor.Unwrap(data.AsSpan(HeaderSize)).ToArray())!.AsObject();
    }

    /// <summary>Writes <paramref name="json"/> as a valid envelope (correct checksum), as a buggy or hostile writer could.</summary>
    public static void Write(string path, JsonObject json)
    {
        using var compressor = new Compressor(3);
        var payload = compressor.Wrap(Encoding.UTF8.GetBytes(json.ToJsonString())).ToArray();
        var data = new byte[HeaderSize + payload.Length];
        Encoding.ASCII.GetBytes("BTNMETA1").CopyTo(data, 0);
        data[8] = 1;
        SHA256.HashData(payload).CopyTo(data, 9);
        payload.CopyTo(data, HeaderSize);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data);
    }

    /// <summary>Rewrites an object with one change to its JSON.</summary>
    public static void Edit(string path, Action<JsonObject> change)
    {
        var json = Read(path);
        change(json);
        Write(path, json);
    }

    /// <summary>Flips one bit of the payload, so that the checksum no longer matches.</summary>
    public static void FlipBit(string path)
    {
        var data = File.ReadAllBytes(path);
        data[HeaderSize + ((data.Length - HeaderSize) / 2)] ^= 0x10;
        File.WriteAllBytes(path, data);
    }
}
