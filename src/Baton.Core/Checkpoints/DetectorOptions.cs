using System.Text.RegularExpressions;

namespace Baton.Checkpoints;

/// <summary>Settings shared by the checkpoint detectors.</summary>
public sealed record DetectorOptions
{
    /// <summary>
    /// How long files without a completeness marker (pattern, Hugging Face, Keras) must stay unchanged before they
    /// count as complete.
    /// </summary>
    public TimeSpan QuietPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long files that do have a marker (TensorFlow state file, zip trailer, Orbax rename) must stay unchanged:
    /// a short guard against a writer that is still finishing up.
    /// </summary>
    public TimeSpan SettlePeriod => QuietPeriod < MaxSettle ? QuietPeriod : MaxSettle;

    /// <summary>A regular expression with one capture group that reads the step from a checkpoint's path.</summary>
    public Regex? StepFrom { get; init; }

    /// <summary>
    /// The rank of this node in a multi-node run (0 for a single node). With node-local directories a node sees
    /// only its own ranks' files, so a distributed format judges its part of a checkpoint, not the whole.
    /// </summary>
    public int NodeRank { get; init; }

    /// <summary>How many nodes take part in the run (1 for a single node).</summary>
    public int NodeCount { get; init; } = 1;

    /// <summary>
    /// True when every node sees the same checkpoint directory (NFS, Lustre, a mounted drive), so that each node
    /// sees every rank's files.
    /// </summary>
    public bool SharedDirectory { get; init; }

    /// <summary>The clock; tests pass a fake one.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    private static TimeSpan MaxSettle => TimeSpan.FromSeconds(1);
}
