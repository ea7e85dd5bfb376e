using System.Text.RegularExpressions;
using Baton.Retention;
using Baton.Staging;
using Baton.Supervision.Preemption;

namespace Baton.Supervision;

/// <summary>Everything <c>baton run</c> is told: the run, the directory, the trainer and how to look after it.</summary>
public sealed record SupervisorOptions
{
    /// <summary>The run the checkpoints belong to.</summary>
    public required string Run { get; init; }

    /// <summary>The checkpoint directory the trainer writes.</summary>
    public required string Directory { get; init; }

    /// <summary>The training command: program and arguments.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Arguments appended only when a checkpoint is there to resume from.</summary>
    public IReadOnlyList<string> ResumeArguments { get; init; } = [];

    /// <summary>Fence a live writer of the run at start instead of waiting for its lease to expire.</summary>
    public bool TakeOver { get; init; }

    /// <summary>This node's place in a multi-node job (the default: a single-node run).</summary>
    public Groups.GroupOptions Group { get; init; } = Groups.GroupOptions.Single;
    /// <summary>The codec for float data in each push (<c>--compression</c>).</summary>
    public Compression.CompressionChoice Compression { get; init; }

    /// <summary>Data to fetch before the trainer starts (<c>--data SRC=DEST</c>): source and destination.</summary>
    public IReadOnlyList<(string Source, string Destination)> Data { get; init; } = [];

    /// <summary>How data is fetched (cache, stores for remote sources).</summary>
    public StageOptions? Staging { get; init; }

    /// <summary>A retention policy applied to the run as checkpoints arrive (at most once a minute) and at the end.</summary>
    public RetentionPolicy? Retention { get; init; }

    /// <summary>The checkpoint format (see <see cref="Checkpoints.CheckpointFormats"/>).</summary>
    public string Format { get; init; } = "auto";

    /// <summary>How long marker-less checkpoints must stay unchanged.</summary>
    public TimeSpan QuietPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Reads the step from a checkpoint's path (one capture group).</summary>
    public Regex? StepFrom { get; init; }

    /// <summary>Restart and crash-loop settings.</summary>
    public RestartOptions Restart { get; init; } = new();

    /// <summary>The signal forwarded to the trainer's process group to make it stop; the whole group gets <see cref="Grace"/> to exit.</summary>
    public int StopSignal { get; init; } = SignalNames.Term;

    /// <summary>How long the trainer gets, after the stop signal, to write a last checkpoint and exit.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A known limit on the session (from the supervisor's start); the stop begins ahead of it.</summary>
    public TimeSpan? Deadline { get; init; }

    /// <summary>A signal that makes the trainer write a checkpoint, sent before stopping at a deadline or notice.</summary>
    public int? CheckpointSignal { get; init; }

    /// <summary>Who gets <see cref="CheckpointSignal"/>: the trainer (once it handles it) or its whole process group.</summary>
    public CheckpointSignalTarget CheckpointSignalTo { get; init; } = CheckpointSignalTarget.Trainer;

    /// <summary>How long after the trainer's start a directory without any new checkpoint is warned about.</summary>
    public TimeSpan NoCheckpointWarning { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Which cloud's preemption notices to watch: gce, aws, azure, auto or none.</summary>
    public string Preemption { get; init; } = "none";

    /// <summary>How often the metadata service is asked.</summary>
    public TimeSpan PreemptionInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Where the metadata services are.</summary>
    public PreemptionEndpoints Endpoints { get; init; } = new();

    /// <summary>How often the directory is rescanned when no file-system event arrives.</summary>
    public TimeSpan ScanInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>CPU and I/O priority of the background pushes (README "Pushing beside a busy trainer").</summary>
    public Platform.PushPriority PushPriority { get; init; } = Platform.PushPriority.Low;

    /// <summary>How often the leg record is refreshed while nothing else happens.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The machine's name, recorded in legs and snapshots.</summary>
    public string HostName { get; init; } = Environment.MachineName;

    /// <summary>The password or key file of an encrypted repository (creates one in an empty store).</summary>
    public Encryption.RepositoryCredentials? Credentials { get; init; }

    /// <summary>The clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Randomness for the restart jitter.</summary>
    public Random Random { get; init; } = Random.Shared;

    /// <summary>How long before the deadline the stop begins: the grace period plus time for the final push.</summary>
    public TimeSpan DeadlineLead => Grace + (Deadline is { } d ? TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(1).Ticks, d.Ticks / 10)) : TimeSpan.Zero);
}
