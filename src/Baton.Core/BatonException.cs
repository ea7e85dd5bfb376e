namespace Baton;

/// <summary>What kind of failure an error is; the command line maps each category to one exit code.</summary>
public enum ErrorCategory
{
    /// <summary>Any failure without a more specific category.</summary>
    Failure,

    /// <summary>The input was wrong: an unknown URI scheme, a bad name, a missing directory.</summary>
    Usage,

    /// <summary>The store cannot be reached, or access to it is denied.</summary>
    Access,

    /// <summary>Data is missing or corrupt.</summary>
    Integrity,

    /// <summary>Another writer holds or has taken over the run.</summary>
    Conflict,

    /// <summary>The nodes of a multi-node job attempt could not agree on or reach a common start step.</summary>
    GroupStart,
}

/// <summary>Base of every error Baton raises on purpose. Messages are one line, say what to do, and hold no secrets.</summary>
public class BatonException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="category">What kind of failure this is; decides the exit code.</param>
    /// <param name="message">One line saying what is wrong and what to do; no secrets.</param>
    /// <param name="innerException">The error that caused this one, if any.</param>
    public BatonException(ErrorCategory category, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Category = category;
    }

    /// <summary>What kind of failure this is.</summary>
    public ErrorCategory Category { get; }
}

/// <summary>Stored data is missing or does not match its hash. The message names the snapshot, file and object.</summary>
/// <param name="message">One line saying what is wrong and what to do.</param>
/// <param name="innerException">The error that caused this one, if any.</param>
public sealed class IntegrityException(string message, Exception? innerException = null)
    : BatonException(ErrorCategory.Integrity, message, innerException);

/// <summary>The input cannot be acted on (bad URI, bad name, missing directory).</summary>
/// <param name="message">One line saying what is wrong and what to do.</param>
/// <param name="innerException">The error that caused this one, if any.</param>
public sealed class UsageException(string message, Exception? innerException = null)
    : BatonException(ErrorCategory.Usage, message, innerException);

/// <summary>Another writer made history first; this writer must stop.</summary>
/// <param name="message">One line saying what is wrong and what to do.</param>
/// <param name="innerException">The error that caused this one, if any.</param>
public sealed class ConflictException(string message, Exception? innerException = null)
    : BatonException(ErrorCategory.Conflict, message, innerException);
