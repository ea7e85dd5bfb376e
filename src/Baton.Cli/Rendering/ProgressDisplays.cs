namespace Baton.Cli.Rendering;

/// <summary>Chooses how a command shows progress: from <c>--json</c>, <c>--quiet</c>, whether stderr is a terminal and <c>BATON_PROGRESS</c>.</summary>
internal static class ProgressDisplays
{
    /// <summary>Overrides the choice between the live bar and plain lines: <c>live</c>, <c>lines</c> or <c>none</c>.</summary>
    public const string ModeVariable = "BATON_PROGRESS";

    public static IProgressDisplay Create(string verb, bool quiet, bool json) =>
        Choose(quiet, json, !CliConsole.IsErrorRedirected, CliContext.Current.GetEnvironmentVariable) switch
        {
            ProgressMode.Json => new JsonProgressEvents(verb, CliConsole.Out, TimeProvider.System),
            ProgressMode.Live => LiveProgressBar.OnStandardError(verb),
            ProgressMode.Lines => new PlainProgressLines(verb, CliConsole.Error, TimeProvider.System),
            _ => NoProgressDisplay.Instance,
        };

    public static ProgressMode Choose(bool quiet, bool json, bool stderrIsTerminal, Func<string, string?> environment)
    {
        if (json || quiet)
        {
            return json && !quiet ? ProgressMode.Json : ProgressMode.None;
        }

        switch (environment(ModeVariable))
        {
            case null or "":
                break;
            case "live":
                return ProgressMode.Live;
            case "lines":
                return ProgressMode.Lines;
            case "none":
                return ProgressMode.None;
            case var other:
                throw new UsageException($"{ModeVariable}='{other}' is not a progress style: use live, lines or none");
        }

        return stderrIsTerminal && !InNotebook(environment) && environment("TERM") != "dumb" ? ProgressMode.Live : ProgressMode.Lines;
    }

    // A notebook's `!cmd` runs on a pseudo-terminal, but a cell cannot redraw a bar. Kernels started by jupyter_client
    // carry JPY_PARENT_PID; Colab and Kaggle name themselves; and IPython's kernel sets TERM=xterm-color, CLICOLOR=1
    // and PAGER=cat for its children wherever it was started from.
    private static bool InNotebook(Func<string, string?> environment) =>
        !string.IsNullOrEmpty(environment("JPY_PARENT_PID"))
        || !string.IsNullOrEmpty(environment("COLAB_RELEASE_TAG"))
        || !string.IsNullOrEmpty(environment("KAGGLE_KERNEL_RUN_TYPE"))
        || (environment("TERM") == "xterm-color" && environment("CLICOLOR") == "1" && environment("PAGER") == "cat");
}
