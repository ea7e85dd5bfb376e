using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Serialization;
using Baton.Cli.Rendering;
using Baton.Staging;

namespace Baton.Cli.Commands;

internal static class StageCommand
{
    /// <summary>Environment variable overriding the endpoint public gs:// objects are read from (a mirror, a test server).</summary>
    public const string GcsEndpointVariable = "BATON_GCS_ENDPOINT";

    public static Command Create()
    {
        var source = new Argument<string>("SRC") { Description = "What to fetch: http(s)://URL, gs://BUCKET/OBJECT, s3://, az://, sftp://, rclone:REMOTE:PATH or a folder" };
        var destination = new Argument<string>("DEST") { Description = "Where to put it: a file, or a folder (a folder source always goes into a folder)" };
        var cache = new Option<string?>("--cache") { Description = $"Cache folder (default ${StageOptions.CacheVariable} or ~/.cache/baton/stage)", HelpName = "DIR" };
        var refresh = new Option<bool>("--refresh") { Description = "Ask the source again even if the cached copy looks current" };
        var connections = new Option<int>("--connections") { Description = "Ranges downloaded at once", DefaultValueFactory = _ => 4, HelpName = "N" };
        var json = CommonOptions.Json();
        var quiet = CommonOptions.Quiet();
        var command = new Command("stage", "Fetch data to this machine: cached by source and content, resumed after interruption, verified, skipped when unchanged")
        {
            source, destination, cache, refresh, connections, json, quiet,
        };
        command.SetAction(BatonApp.Handler(async (result, cancellationToken) =>
        {
            var src = result.GetValue(source)!;
            var dest = result.GetValue(destination)!;
            if (result.GetValue(connections) is < 1 or > 64)
            {
                throw new UsageException("--connections takes a number from 1 to 64");
            }

            var clock = Stopwatch.StartNew();
            var display = ProgressDisplays.Create("stage", result.GetValue(quiet), result.GetValue(json));
            var staged = await display.RunAsync(progress => DataStager.StageAsync(src, dest, new StageOptions
            {
                CacheDirectory = result.GetValue(cache),
                Refresh = result.GetValue(refresh),
                Connections = result.GetValue(connections),
                Stores = Stores.Registry,
                Progress = progress,
                GcsEndpoint = CliContext.Current.GetEnvironmentVariable(GcsEndpointVariable) is { Length: > 0 } endpoint ? new Uri(endpoint) : new StageOptions().GcsEndpoint,
            }, cancellationToken));
            if (result.GetValue(json))
            {
                JsonResultEvent.Write(CliConsole.Out, "stage", StageView.From(staged, clock.Elapsed), StageJson.Default.StageView);
                return ExitCodes.Success;
            }

            CliConsole.WriteLine(staged.Destination);
            if (!result.GetValue(quiet))
            {
                await CliConsole.Error.WriteLineAsync($"staged {staged.Files} file{(staged.Files == 1 ? "" : "s")}, {Units.Bytes(staged.Bytes)} in {Units.Duration(clock.Elapsed)}: {Describe(staged)}");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static string Describe(StageResult staged) => staged switch
    {
        { BytesDownloaded: > 0 } => $"downloaded {Units.Bytes(staged.BytesDownloaded)}" + (staged.FilesFromCache > 0 ? $", {staged.FilesFromCache} from the cache" : ""),
        { FilesUnchanged: var n } when n == staged.Files => "unchanged, nothing downloaded",
        _ => "from the cache, nothing downloaded",
    };
}

/// <summary>The JSON form of a stage's result.</summary>
internal sealed record StageView(string Destination, long Files, long Bytes, long BytesDownloaded, long FilesFromCache, long FilesUnchanged, double Seconds)
{
    public static StageView From(StageResult r, TimeSpan elapsed) =>
        new(r.Destination, r.Files, r.Bytes, r.BytesDownloaded, r.FilesFromCache, r.FilesUnchanged, Math.Round(elapsed.TotalSeconds, 3));
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StageView))]
internal sealed partial class StageJson : JsonSerializerContext;
