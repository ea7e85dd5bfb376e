namespace Baton.Cli;

/// <summary>The documented exit codes (README, "Exit codes"). Every error maps to one of these in one place.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int StoreAccess = 3;
    public const int Integrity = 4;
    public const int Conflict = 5;

    /// <summary>baton run: the trainer kept failing (crash loop, or --max-restarts reached).</summary>
    public const int TrainerFailed = 6;

    /// <summary>baton run: the nodes of this job attempt could not agree on or reach a common start step; none started.</summary>
    public const int GroupStart = 7;

    /// <summary>baton run: stopped ahead of --deadline or on a preemption notice; run the same command to continue.</summary>
    public const int Stopped = 75;
    public const int Interrupted = 130;
    public const int Terminated = 143;

    public static int For(ErrorCategory category) => category switch
    {
        ErrorCategory.Usage => Usage,
        ErrorCategory.Access => StoreAccess,
        ErrorCategory.Integrity => Integrity,
        ErrorCategory.Conflict => Conflict,
        ErrorCategory.GroupStart => GroupStart,
        _ => Failure,
    };
}
