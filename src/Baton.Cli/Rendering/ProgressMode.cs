namespace Baton.Cli.Rendering;

/// <summary>How progress is shown.</summary>
internal enum ProgressMode
{
    /// <summary>Not at all (<c>--quiet</c>).</summary>
    None,

    /// <summary>Plain lines on stderr every few seconds (not a terminal: notebook cells, log files).</summary>
    Lines,

    /// <summary>A live bar on stderr (a terminal).</summary>
    Live,

    /// <summary>JSON Lines events on stdout (<c>--json</c>).</summary>
    Json,
}
