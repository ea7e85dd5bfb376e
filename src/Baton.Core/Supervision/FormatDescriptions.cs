namespace Baton.Supervision;

/// <summary>What each <c>--format</c> looks for, in words, for the warning about a directory where nothing appears.</summary>
internal static class FormatDescriptions
{
    /// <summary>Describes <paramref name="format"/> as given (<c>pattern:GLOB</c> keeps its glob) or as auto picked it.</summary>
    public static string Describe(string format, string current) => (format.StartsWith("pattern:", StringComparison.Ordinal) ? "pattern" : current) switch
    {
        "tf" => "TensorFlow checkpoints (a 'checkpoint' state file naming PREFIX.index and its .data-NNNNN-of-MMMMM shards)",
        "torch" => "PyTorch checkpoints (*.pt, *.pth, *.ckpt or *.tar files saved by torch.save)",
        "hf" => "Hugging Face checkpoints (checkpoint-N/ directories holding trainer_state.json)",
        "orbax" => "Orbax checkpoints (step directories N/ or PREFIX_N/, with commit_success.txt where written)",
        "keras" => "Keras checkpoints (latest.weights.h5 with training_metadata.json, or chief/ TensorFlow checkpoints)",
        "pattern" => $"files matching {format["pattern:".Length..]}",
        _ => "checkpoints of any known format (tf, keras, hf, orbax, torch)",
    };
}
