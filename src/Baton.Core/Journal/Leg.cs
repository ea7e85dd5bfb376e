namespace Baton.Journal;

/// <summary>
/// One supervisor lifetime on one machine: from <c>baton run</c>'s start to its end (or to the moment it was killed,
/// when <see cref="Ended"/> stays empty and <see cref="Updated"/> is the last word from it). Stored at
/// <c>runs/RUN/legs/ID</c> and rewritten as the leg goes on.
/// </summary>
public sealed record Leg
{
    /// <summary>Format version of the record.</summary>
    public int Version { get; init; } = 1;

    /// <summary>Sortable id: start time and a random suffix.</summary>
    public required string Id { get; init; }

    /// <summary>The run.</summary>
    public required string Run { get; init; }

    /// <summary>The machine.</summary>
    public string Host { get; init; } = "";

    /// <summary>In a multi-node run: this node's rank (absent in single-node legs).</summary>
    public int? NodeRank { get; init; }

    /// <summary>In a multi-node run: how many nodes the job attempt has.</summary>
    public int? Nodes { get; init; }

    /// <summary>In a multi-node run: the job attempt's group id.</summary>
    public string? GroupId { get; init; }

    /// <summary>When the supervisor started.</summary>
    public DateTimeOffset Started { get; init; }

    /// <summary>The last time the supervisor wrote this record.</summary>
    public DateTimeOffset Updated { get; init; }

    /// <summary>When the leg ended; empty while it runs, and for ever when it was killed.</summary>
    public DateTimeOffset? Ended { get; init; }

    /// <summary>Why it ended (see <see cref="LegEndReasons"/>).</summary>
    public string? EndReason { get; init; }

    /// <summary>The checkpoint format in use, once known.</summary>
    public string? Format { get; init; }

    /// <summary>The step restored from the store at the start, if any.</summary>
    public long? RestoredStep { get; init; }

    /// <summary>The snapshot restored at the start, if any.</summary>
    public string? RestoredSnapshot { get; init; }

    /// <summary>The newest step this leg committed.</summary>
    public long? NewestStep { get; init; }

    /// <summary>
    /// The newest step the trainer reached: the newest checkpoint seen complete in the checkpoint directory, durable
    /// or not. Empty in legs written by older versions of Baton, and while nothing with a step was seen.
    /// </summary>
    public long? ReachedStep { get; init; }

    /// <summary>When the checkpoint at <see cref="ReachedStep"/> was written (its newest file's modification time).</summary>
    public DateTimeOffset? ReachedAt { get; init; }

    /// <summary>
    /// Mean seconds the trainer spent writing one checkpoint (first file created to last file modified): the cost
    /// of a checkpoint to training, since pushes run beside it. Empty while none was measured.
    /// </summary>
    public double? SaveSeconds { get; init; }

    /// <summary>How many checkpoint writes <see cref="SaveSeconds"/> averages.</summary>
    public int SavesMeasured { get; init; }

    /// <summary>The supervisor's process id, with <see cref="BootId"/>, <see cref="PidNamespace"/> and <see cref="ProcessStart"/> to tell whether it is gone.</summary>
    public int? Pid { get; init; }

    /// <summary>The kernel boot id of the supervisor's machine.</summary>
    public string? BootId { get; init; }

    /// <summary>The supervisor's pid namespace (its inode).</summary>
    public long? PidNamespace { get; init; }

    /// <summary>The supervisor's start time, in clock ticks since boot.</summary>
    public long? ProcessStart { get; init; }

    /// <summary>Checkpoints committed.</summary>
    public int CheckpointsPushed { get; init; }

    /// <summary>Pushes abandoned because the trainer changed the checkpoint meanwhile.</summary>
    public int PushesAbandoned { get; init; }

    /// <summary>Pushes that failed (store errors).</summary>
    public int PushFailures { get; init; }

    /// <summary>Times the trainer was restarted.</summary>
    public int Restarts { get; init; }

    /// <summary>The trainer's exits, oldest first (the last few).</summary>
    public List<TrainerExit> TrainerExits { get; init; } = [];

    /// <summary>A one-line note on how the leg ended.</summary>
    public string? Message { get; init; }
}

/// <summary>One end of the trainer process.</summary>
/// <param name="At">When it exited.</param>
/// <param name="Code">Its exit code, when it exited by itself.</param>
/// <param name="Signal">The signal that ended it, when one did.</param>
/// <param name="Seconds">How long it ran.</param>
public sealed record TrainerExit(DateTimeOffset At, int? Code, int? Signal, double Seconds);

/// <summary>The values of <see cref="Leg.EndReason"/>.</summary>
public static class LegEndReasons
{
    /// <summary>The trainer exited 0 and its last checkpoint is durable.</summary>
    public const string Finished = "finished";

    /// <summary>Stopped by a signal (the value is followed by the signal's name, e.g. "signal SIGTERM").</summary>
    public const string Signal = "signal";

    /// <summary>Stopped ahead of <c>--deadline</c>.</summary>
    public const string Deadline = "deadline";

    /// <summary>Stopped on a cloud preemption notice.</summary>
    public const string Preempted = "preempted";

    /// <summary>The trainer kept failing without making progress.</summary>
    public const string CrashLoop = "crash-loop";

    /// <summary><c>--max-restarts</c> was reached.</summary>
    public const string MaxRestarts = "max-restarts";

    /// <summary>Another writer took the run over (see <c>--take-over</c>).</summary>
    public const string Fenced = "fenced";

    /// <summary>The supervisor itself failed (e.g. the store became unreachable for the final push).</summary>
    public const string Failed = "failed";
}
