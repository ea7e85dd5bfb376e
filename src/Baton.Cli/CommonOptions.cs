using System.CommandLine;
using Baton.Cli.Configuration;
using Baton.Compression;

namespace Baton.Cli;

/// <summary>Options shared by several commands; each is created per command so help stays accurate.</summary>
internal static class CommonOptions
{
    public static Option<string?> Store() => new("--store", "-s")
    {
        // From the registry, so that a new store shows up here without editing this text.
        Description = $"Store location: {string.Join(", ", Stores.Registry.AddressForms)} (default from BATON_STORE)",
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

    public static Option<string?> Compression() => new("--compression")
    {
        Description = "Codec for float data: fast (codecs 2/3), small (codec 4: fewer bytes, ~10x the CPU) or auto (small for network stores, fast for a folder; default from BATON_COMPRESSION)",
        HelpName = "auto|fast|small",
    };

    /// <summary>The environment variable that sets <c>--compression</c>.</summary>
    public const string CompressionVariable = "BATON_COMPRESSION";

    public static CompressionChoice CompressionFrom(ParseResult result, Option<string?> option)
    {
        var (value, source) = result.GetValue(option) is { } flag ? (flag, "--compression")
            : NonEmpty(CliContext.Current.GetEnvironmentVariable(CompressionVariable)) is { } variable ? (variable, CompressionVariable)
            : ConfigFile.Current.Compression is { } file ? (file, $"compression in {ConfigFile.FileName}")
            : ("auto", "");
        return CompressionChoices.TryParse(value)
            ?? throw new UsageException($"{source} '{value}' is not a compression: use {CompressionChoices.Names} (e.g. --compression fast)");
    }

    // Flags win over environment variables, which win over baton.toml in the working directory.
    public static string StoreFrom(ParseResult result, Option<string?> option)
    {
        // Given but empty (--store "", or BATON_STORE=""): an empty address is an error, not an absent one.
        if (result.GetResult(option) is not null && string.IsNullOrEmpty(result.GetValue(option)))
        {
            return "";
        }

        return result.GetValue(option) ?? CliContext.Current.GetEnvironmentVariable("BATON_STORE") ?? ConfigFile.Current.Store
            ?? throw new UsageException("no store given: pass --store PATH_OR_URI, set BATON_STORE or put store = \"...\" in baton.toml");
    }

    public static string RunFrom(ParseResult result, Option<string?> option) =>
        OptionalRunFrom(result, option)
        ?? throw new UsageException("no run given: pass --run NAME, set BATON_RUN or put run = \"...\" in baton.toml");

    public static string? OptionalRunFrom(ParseResult result, Option<string?> option) =>
        result.GetValue(option) ?? NonEmpty(CliContext.Current.GetEnvironmentVariable("BATON_RUN")) ?? ConfigFile.Current.Run;

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
