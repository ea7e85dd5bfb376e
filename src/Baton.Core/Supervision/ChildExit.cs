using System.Globalization;

namespace Baton.Supervision;

/// <summary>How a child process ended: with an exit code, or killed by a signal.</summary>
/// <param name="Code">The exit code, when it exited by itself.</param>
/// <param name="Signal">The signal that killed it, when one did.</param>
/// <param name="Ran">How long it ran.</param>
public sealed record ChildExit(int? Code, int? Signal, TimeSpan Ran)
{
    /// <summary>Exited by itself with code 0.</summary>
    public bool Succeeded => Code == 0;

    /// <summary>"exit code 1" or "killed by SIGKILL".</summary>
    public string Describe() => Signal is { } signal
        ? $"killed by {SignalNames.Name(signal)}"
        : string.Create(CultureInfo.InvariantCulture, $"exit code {Code}");
}
