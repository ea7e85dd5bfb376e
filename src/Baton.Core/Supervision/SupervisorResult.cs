namespace Baton.Supervision;

/// <summary>How a supervised run ended.</summary>
public enum SupervisorOutcome
{
    /// <summary>The trainer exited 0 and its last checkpoint is durable.</summary>
    Finished,

    /// <summary>A signal stopped the supervisor (after the stop sequence).</summary>
    Signaled,

    /// <summary>Stopped ahead of the deadline.</summary>
    Deadline,

    /// <summary>Stopped on a preemption notice.</summary>
    Preempted,

    /// <summary>The trainer kept failing without new checkpoints.</summary>
    CrashLoop,

    /// <summary>The restart budget ran out.</summary>
    MaxRestarts,

    /// <summary>Another writer took the run over: this supervisor stopped its trainer and committed nothing more.</summary>
    Fenced,
}

/// <summary>The end of a supervised run.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="Signal">The signal that stopped it, for <see cref="SupervisorOutcome.Signaled"/>.</param>
/// <param name="NewestStep">The newest step in the store at the end.</param>
/// <param name="LastExit">The trainer's last exit.</param>
/// <param name="Message">A one-line summary.</param>
public sealed record SupervisorResult(SupervisorOutcome Outcome, int? Signal, long? NewestStep, ChildExit? LastExit, string Message);
