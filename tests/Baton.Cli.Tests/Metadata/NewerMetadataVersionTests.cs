using System.Text.Json.Nodes;
using Baton.Testing;

namespace Baton.Tests.Metadata;

/// <summary>
/// Every kind of metadata object a newer baton may write (version 2) is refused by the command that reads it (exit 1,
/// "upgrade baton", README's exit codes), is left byte for byte as it was, and is named by check.
/// </summary>
public sealed class NewerMetadataVersionTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _store;
    private readonly string _source;

    public NewerMetadataVersionTests()
    {
        _store = _temp.Combine("store");
        _source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(_source, "model.bin"), 100_000, 1);
    }

    public static TheoryData<string> Kinds => ["epoch", "heartbeat", "tag", "gc mark", "in-flight marker", "leg"];

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(Kinds))]
    public async Task A_newer_version_of_each_kind_is_refused_never_rewritten_and_named_by_check(string kind)
    {
        await Cli.PushAsync(_source, _store, "r");
        await Cli.SucceedAsync("tag", "best", "--store", _store, "--run", "r");
        var (key, command) = await ForgeAsync(kind);
        var path = Path.Combine(_store, key);
        var before = File.ReadAllBytes(path);

        var refused = await Cli.RunAsync([.. command, "--store", _store, "--run", "r"]);
        var check = await Cli.RunAsync("check", "--store", _store, "--quiet");

        Cli.AssertOneLineError(refused, 1, key, "version 2", "upgrade baton");
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.True(check.ExitCode == 4, check.ToString());
        Assert.Contains($"error: '{key}'", check.StdOut, StringComparison.Ordinal);
    }

    // Each object is forged from what the CLI wrote where there is one, and written whole where a run leaves none.
    private async Task<(string Key, string[] Command)> ForgeAsync(string kind)
    {
        var now = TimeProvider.System.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        switch (kind)
        {
            case "epoch":
                return (Newer("runs/r/epochs/0000000001"), ["push", _source, "--quiet"]);
            case "heartbeat":
                return (Newer("runs/r/heartbeats/0000000001"), ["push", _source, "--quiet"]);
            case "tag":
                return (Newer("runs/r/tags/best"), ["tag", "best"]);
            case "gc mark":
                MetadataObjects.Write(Path.Combine(_store, "gc/0000newer"),
                    new JsonObject { ["version"] = 2, ["id"] = "0000newer", ["created"] = now, ["packs"] = new JsonArray() });
                return ("gc/0000newer", ["prune", "--keep-last", "1", "--quiet"]);
            case "in-flight marker":
                // Collection asks for live pushes only when it has something to delete: the first snapshot's data.
                await Cli.SucceedAsync("untag", "best", "--store", _store, "--run", "r");
                TestData.WriteRandomFile(Path.Combine(_source, "model.bin"), 100_000, 2);
                await Cli.SucceedAsync("push", _source, "--store", _store, "--run", "r", "--quiet");
                MetadataObjects.Write(Path.Combine(_store, "inflight/0000newer"), new JsonObject
                {
                    ["version"] = 2, ["id"] = "0000newer", ["run"] = "r", ["host"] = "elsewhere", ["processId"] = 1, ["started"] = now, ["heartbeat"] = now,
                });
                return ("inflight/0000newer", ["prune", "--keep-last", "1", "--quiet"]);
            default:
                MetadataObjects.Write(Path.Combine(_store, "runs/r/legs/20260101T000000000Z-abcdef"), new JsonObject
                {
                    ["version"] = 2, ["id"] = "20260101T000000000Z-abcdef", ["run"] = "r", ["started"] = now, ["updated"] = now,
                });
                return ("runs/r/legs/20260101T000000000Z-abcdef", ["status"]);
        }
    }

    private string Newer(string key)
    {
        MetadataObjects.Edit(Path.Combine(_store, key), json => json["version"] = 2);
        return key;
    }

    public void Dispose() => _temp.Dispose();
}
