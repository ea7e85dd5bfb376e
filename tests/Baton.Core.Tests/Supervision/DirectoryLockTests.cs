using System.Globalization;
using Baton.Supervision;
using Baton.Testing;

namespace Baton.Tests.Supervision;

/// <summary>The lock of a checkpoint directory outlives its supervisor in the trainer it passed it to.</summary>
public sealed class DirectoryLockTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 60_000)]
    public async Task A_trainer_that_inherited_the_lock_keeps_it_after_its_supervisor_let_go_and_is_named()
    {
        var directory = _temp.Combine("ckpt");
        ChildProcess trainer;
        using (var held = DirectoryLock.Acquire(directory, "ckpt"))
        {
            trainer = ChildProcess.Start("/bin/sh", ["sh", "-c", "while :; do sleep 0.05; done"], ChildProcess.EnvironmentWith(new Dictionary<string, string>()),
                inheritedLock: held.Descriptor);
        }

        try
        {
            var refused = Assert.Throws<ConflictException>(() => DirectoryLock.Acquire(directory, "ckpt"));
            Assert.Contains("another trainer still writes to 'ckpt'", refused.Message, StringComparison.Ordinal);
            Assert.Contains(trainer.Id.ToString(CultureInfo.InvariantCulture), refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            trainer.KillGroup();
            await trainer.Exited;
        }

        // The kernel drops the lock once the last member of the killed group has finished exiting: poll for it.
        Assert.True(await AcquiredWithinAsync(directory, TimeSpan.FromSeconds(30)), "the lock outlived the whole process tree");
    }

    private static async Task<bool> AcquiredWithinAsync(string directory, TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            try
            {
                DirectoryLock.Acquire(directory, "ckpt").Dispose();
                return true;
            }
            catch (ConflictException)
            {
                await Task.Delay(50);
            }
        }

        return false;
    }

    public void Dispose() => _temp.Dispose();
}
