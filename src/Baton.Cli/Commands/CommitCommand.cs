using System.CommandLine;
using Baton.Checkpoints;

namespace Baton.Cli.Commands;

/// <summary>
/// <c>baton commit</c>: a trainer (a shell script, say) tells <c>baton run</c> that a checkpoint is complete, by
/// writing a commit record into <c>DIR/.baton/commits/</c>; the supervisor pushes exactly those files at once.
/// </summary>
internal static class CommitCommand
{
    /// <summary>The variable <c>baton run</c> sets for the trainer: the checkpoint directory to commit in.</summary>
    public const string DirectoryVariable = "BATON_COMMIT_DIR";

    public static Command Create()
    {
        var dir = new Option<string?>("--dir", "-d") { Description = $"The checkpoint directory (default: ${DirectoryVariable}, set by 'baton run')", HelpName = "CKPT_DIR" };
        var step = new Option<long?>("--step") { Description = "The training step of the checkpoint", HelpName = "N", Required = true };
        var files = new Argument<string[]>("FILES") { Description = "The checkpoint's files, inside CKPT_DIR (default: every file in it)", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("commit", "Say that a checkpoint is complete: 'baton run' pushes exactly these files at once")
        {
            dir, step, files,
        };
        command.SetAction(BatonApp.Handler(async (result, _) =>
        {
            var directory = result.GetValue(dir) ?? (CliContext.Current.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } fromRun ? fromRun : null)
                ?? throw new UsageException($"no checkpoint directory: pass --dir CKPT_DIR (under 'baton run', ${DirectoryVariable} names it)");
            if (!Directory.Exists(directory))
            {
                throw new UsageException($"checkpoint directory '{directory}' does not exist: pass the --dir the trainer writes");
            }

            var given = result.GetValue(files) ?? [];
            var relative = given.Length == 0 ? null : given.Select(f => CommitRecords.RelativeFile(directory, f)).Distinct(StringComparer.Ordinal).ToList();
            var record = CommitRecords.Write(directory, result.GetValue(step) ?? 0, relative, TimeProvider.System);
            await CliConsole.Out.WriteLineAsync($"committed step {result.GetValue(step)}: {Path.GetRelativePath(CliContext.Current.CurrentDirectory, record)}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
