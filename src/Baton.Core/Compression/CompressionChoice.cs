namespace Baton.Compression;

/// <summary>
/// Which codec float data gets on push: the fast plane codecs (2 and 3) or the smaller, slower float segment codec
/// (4). Everything else is coded the same way under each choice, and restore reads every codec whatever the choice.
/// </summary>
public enum CompressionChoice
{
    /// <summary><see cref="Small"/> for a store across a network, where upload bandwidth is the limit; <see cref="Fast"/> for a local one.</summary>
    Auto = 0,

    /// <summary>Codecs 2 and 3 for float data: about ten times the throughput of codec 4, 3–12% more bytes stored.</summary>
    Fast,

    /// <summary>Codec 4 for float data: the fewest bytes stored, at about a tenth of the throughput per thread.</summary>
    Small,
}

/// <summary>Names and parsing of <see cref="CompressionChoice"/> values.</summary>
public static class CompressionChoices
{
    /// <summary>The names accepted, in the order documentation lists them.</summary>
    public const string Names = "auto, fast, small";

    /// <summary>Parses <c>auto</c>, <c>fast</c> or <c>small</c> (any case); null for anything else.</summary>
    public static CompressionChoice? TryParse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "auto" => CompressionChoice.Auto,
        "fast" => CompressionChoice.Fast,
        "small" => CompressionChoice.Small,
        _ => null,
    };

    /// <summary>
    /// The choice a push to a store makes: <see cref="CompressionChoice.Auto"/> becomes <see cref="CompressionChoice.Fast"/>
    /// on a local store (a folder: CPU is the limit there) and <see cref="CompressionChoice.Small"/> elsewhere.
    /// </summary>
    public static CompressionChoice Resolve(CompressionChoice choice, Storage.StoreCapabilities capabilities) =>
        choice != CompressionChoice.Auto ? choice
        : capabilities.Local ? CompressionChoice.Fast
        : CompressionChoice.Small;

    /// <summary>The lower-case name of a choice.</summary>
    public static string Name(CompressionChoice choice) => choice.ToString().ToLowerInvariant();
}
