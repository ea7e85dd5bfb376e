namespace Baton.Storage;

/// <summary>Why a store operation failed; read by the retry decorator and by the command line.</summary>
public enum StoreErrorReason
{
    /// <summary>The object does not exist.</summary>
    NotFound,

    /// <summary>A create-if-absent write found the object already there.</summary>
    AlreadyExists,

    /// <summary>A passing fault (timeout, throttling, dropped connection): worth retrying.</summary>
    Transient,

    /// <summary>The store cannot be reached at all (unknown host, refused connection, missing mount).</summary>
    Unreachable,

    /// <summary>Credentials are missing, wrong or lack permission.</summary>
    Unauthorized,

    /// <summary>The store is out of space or over quota.</summary>
    Full,

    /// <summary>Anything else that retrying will not fix.</summary>
    Permanent,

    /// <summary>The store holds the object, but its bytes fail the store's own checksum or fall short of the length
    /// it announces: the stored object is damaged (an integrity error, exit 4).</summary>
    Corrupt,
}

/// <summary>A store operation failed. The message names the store and the object and never holds secrets.</summary>
public sealed class StoreException : BatonException
{
    /// <summary>Creates the exception; its <see cref="BatonException.Category"/> (and so the exit code) follows from
    /// <paramref name="reason"/>.</summary>
    /// <param name="reason">What kind of failure this is.</param>
    /// <param name="location">The store's location, as <see cref="IObjectStore.Location"/> shows it.</param>
    /// <param name="key">The object concerned, or <c>null</c> for an operation on the store as a whole.</param>
    /// <param name="message">One line naming the store and the object and saying what to do; no secrets.</param>
    /// <param name="innerException">The SDK's or the file system's error, if any.</param>
    public StoreException(StoreErrorReason reason, string location, string? key, string message, Exception? innerException = null)
        : base(CategoryOf(reason), message, innerException)
    {
        Reason = reason;
        Location = location;
        Key = key;
    }

    /// <summary>What kind of failure this is.</summary>
    public StoreErrorReason Reason { get; }

    /// <summary>The store's location, as <see cref="IObjectStore.Location"/> shows it.</summary>
    public string Location { get; }

    /// <summary>The object concerned, if any.</summary>
    public string? Key { get; }

    /// <summary>Whether retrying the same operation may succeed.</summary>
    public bool IsTransient => Reason == StoreErrorReason.Transient;

    private static ErrorCategory CategoryOf(StoreErrorReason reason) => reason switch
    {
        // A fault still there after the retries is, to the user, a store that cannot be reached.
        StoreErrorReason.Unreachable or StoreErrorReason.Unauthorized or StoreErrorReason.Transient => ErrorCategory.Access,
        StoreErrorReason.AlreadyExists => ErrorCategory.Conflict,
        StoreErrorReason.Corrupt => ErrorCategory.Integrity,
        _ => ErrorCategory.Failure,
    };
}
