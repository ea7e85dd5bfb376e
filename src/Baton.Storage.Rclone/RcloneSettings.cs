namespace Baton.Storage.Rclone;

/// <summary>How the rclone store runs the <c>rclone</c> program.</summary>
public sealed class RcloneSettings
{
    /// <summary>Environment variable naming the rclone program (default: <c>rclone</c> on the PATH).</summary>
    public const string ProgramVariable = "BATON_RCLONE";

    /// <summary>The program to run.</summary>
    public string Program { get; init; } = "rclone";

    /// <summary>
    /// Extra environment for each rclone process, on top of Baton's own (rclone reads <c>RCLONE_CONFIG</c>,
    /// <c>RCLONE_CONFIG_REMOTE_TYPE</c> and friends). Values may be secrets and are never shown.
    /// </summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Reads the settings from the environment.</summary>
    public static RcloneSettings FromEnvironment(Func<string, string?>? environment = null)
    {
        environment ??= System.Environment.GetEnvironmentVariable;
        var program = environment(ProgramVariable);
        return new RcloneSettings { Program = string.IsNullOrWhiteSpace(program) ? "rclone" : program };
    }
}
