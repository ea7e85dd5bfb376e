
namespace Baton.Cli.Rendering;

/// <summary>How a command shows the progress of its one long operation (a push, a pull, a stage, a prune, a check).</summary>
internal interface IProgressDisplay
{
    /// <summary>Runs <paramref name="operation"/>, handing it where to report progress (null when nobody looks).</summary>
    Task<T> RunAsync<T>(Func<IProgress<TransferProgress>?, Task<T>> operation);
}
