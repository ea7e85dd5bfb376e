
namespace Baton.Cli.Rendering;

/// <summary>Shows nothing (<c>--quiet</c>).</summary>
internal sealed class NoProgressDisplay : IProgressDisplay
{
    public static readonly NoProgressDisplay Instance = new();

    public Task<T> RunAsync<T>(Func<IProgress<TransferProgress>?, Task<T>> operation) => operation(null);
}
