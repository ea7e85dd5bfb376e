namespace Baton.Supervision.Preemption;

/// <summary>One cloud's preemption notices.</summary>
public interface IPreemptionSource
{
    /// <summary>The cloud's name: gce, aws or azure.</summary>
    string Name { get; }

    /// <summary>
    /// Asks the metadata service once. Returns a one-line notice when the machine is about to go, <c>null</c> when not.
    /// </summary>
    /// <exception cref="HttpRequestException">The service did not answer as expected.</exception>
    Task<string?> CheckAsync(CancellationToken cancellationToken = default);
}
