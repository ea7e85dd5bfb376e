using System.CommandLine;

namespace Baton.Cli;

/// <summary>Options shared by several commands; each is created per command so help stays accurate.</summary>
internal static class CommonOptions
{
    public static Option<string?> Store() => new("--store", "-s")
    {
        Description = "Store location: a folder path, file:///path, s3://BUCKET/PREFIX, gs://BUCKET/PREFIX, az://CONTAINER/PREFIX (default from BATON_STORE)",
        HelpName = "URI",
    };

    public static Option<string?> Run() => new("--run", "-r")
    {
        Description = "Run name (default from BATON_RUN)",
        HelpName = "NAME",
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print machine-readable JSON",
    };

    public static Option<bool> Quiet() => new("--quiet", "-q")
    {
        Description = "Print no progress",
    };

    public static string StoreFrom(ParseResult result, Option<string?> option) =>
        result.GetValue(option) ?? Environment.GetEnvironmentVariable("BATON_STORE")
        ?? throw new UsageException("no store given: pass --store PATH_OR_URI or set BATON_STORE");

    public static string RunFrom(ParseResult result, Option<string?> option) =>
        result.GetValue(option) ?? Environment.GetEnvironmentVariable("BATON_RUN")
        ?? throw new UsageException("no run given: pass --run NAME or set BATON_RUN");

    public static string? OptionalRunFrom(ParseResult result, Option<string?> option) =>
        result.GetValue(option) ?? Environment.GetEnvironmentVariable("BATON_RUN");
}
