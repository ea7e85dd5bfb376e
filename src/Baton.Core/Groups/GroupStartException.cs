namespace Baton.Groups;

/// <summary>
/// The nodes of a job attempt could not agree on, or all reach, a common start step: none starts its trainer
/// (README, exit code 7).
/// </summary>
/// <param name="message">One line saying what is wrong and what to do.</param>
/// <param name="innerException">The error that caused this one, if any.</param>
public sealed class GroupStartException(string message, Exception? innerException = null)
    : BatonException(ErrorCategory.GroupStart, message, innerException);
