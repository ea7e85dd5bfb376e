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
        "dcp" => "PyTorch distributed checkpoints (directories of __R_I.distcp files with the coordinator's .metadata)",
        "deepspeed" => "DeepSpeed checkpoints (a 'latest' file naming a global_stepN/ directory of *_model_states.pt and *_optim_states.pt)",
        "megatron" => "Megatron checkpoints (latest_checkpointed_iteration.txt naming an iter_NNNNNNN/ directory)",
        "nemo" => "NeMo checkpoints (*.ckpt, *.nemo or checkpoint directories without a NAME-unfinished marker)",
        "accelerate" => "Accelerate checkpoints (save_state directories such as checkpoints/checkpoint_N/ with random_states_R.pkl)",
        "pattern" => $"files matching {format["pattern:".Length..]}",
        _ => "checkpoints of any known format (megatron, deepspeed, nemo, accelerate, dcp, tf, keras, hf, orbax, torch)",
    };
}
