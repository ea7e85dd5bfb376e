namespace Baton.Bench.Generation;

/// <summary>How a tensor's values are drawn.</summary>
internal enum TensorKind
{
    /// <summary>A weight matrix, ~N(0, 0.02).</summary>
    Weight,

    /// <summary>A LayerNorm-like scale, ~1 + N(0, 0.05).</summary>
    Norm,

    /// <summary>A bias, ~N(0, 0.01).</summary>
    Bias,
}

/// <summary>One named tensor of the model.</summary>
internal sealed record TensorSpec(string Name, int[] Shape, TensorKind Kind)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>A transformer-like list of tensors sized so that the float32 checkpoint (weights, Adam moments) is about a target size.</summary>
internal sealed class ModelPlan
{
    public const int Hidden = 1024;
    public const int Vocabulary = 16384;

    private ModelPlan(int layers, List<TensorSpec> tensors)
    {
        Layers = layers;
        Tensors = tensors;
    }

    public int Layers { get; }

    public IReadOnlyList<TensorSpec> Tensors { get; }

    public long Parameters => Tensors.Sum(t => t.Elements);

    /// <summary>Plans a model whose float32 checkpoint (4 bytes of weight and 8 of Adam state per parameter) is about <paramref name="checkpointBytes"/>.</summary>
    public static ModelPlan ForCheckpointSize(long checkpointBytes)
    {
        const long d = Hidden;
        var parameters = checkpointBytes / 12;
        var perLayer = (12 * d * d) + (6 * d);
        var layers = (int)Math.Max(1, Math.Round((double)(parameters - (Vocabulary * d)) / perLayer));
        var tensors = new List<TensorSpec> { new("model.embed_tokens.weight", [Vocabulary, Hidden], TensorKind.Weight) };
        for (var l = 0; l < layers; l++)
        {
            var p = $"model.layers.{l}.";
            tensors.Add(new(p + "input_layernorm.weight", [Hidden], TensorKind.Norm));
            tensors.Add(new(p + "self_attn.q_proj.weight", [Hidden, Hidden], TensorKind.Weight));
            tensors.Add(new(p + "self_attn.k_proj.weight", [Hidden, Hidden], TensorKind.Weight));
            tensors.Add(new(p + "self_attn.v_proj.weight", [Hidden, Hidden], TensorKind.Weight));
            tensors.Add(new(p + "self_attn.o_proj.weight", [Hidden, Hidden], TensorKind.Weight));
            tensors.Add(new(p + "post_attention_layernorm.weight", [Hidden], TensorKind.Norm));
            tensors.Add(new(p + "mlp.up_proj.weight", [4 * Hidden, Hidden], TensorKind.Weight));
            tensors.Add(new(p + "mlp.up_proj.bias", [4 * Hidden], TensorKind.Bias));
            tensors.Add(new(p + "mlp.down_proj.weight", [Hidden, 4 * Hidden], TensorKind.Weight));
        }

        tensors.Add(new("model.norm.weight", [Hidden], TensorKind.Norm));
        return new ModelPlan(layers, tensors);
    }
}
