namespace Baton.Cli.Demo;

/// <summary>Hyperparameters of the demo model; written beside its checkpoints as <c>model_config.json</c>.</summary>
internal sealed record ModelConfig(int Features = 2048, int Samples = 4096, int Batch = 32, double LearningRate = 0.02, double Momentum = 0.5, ulong Seed = 1);

/// <summary>
/// The demo's real training: linear regression by minibatch SGD with momentum on data generated from a hash, so
/// that any step's minibatch is a pure function of the step. The whole state is (step, weights, velocity), so a run
/// resumed from a checkpoint computes exactly the same bits as one that never stopped.
/// </summary>
internal sealed class LinearModel
{
    private readonly ModelConfig _config;
    private readonly double[] _rows;
    private readonly double[] _targets;

    public LinearModel(ModelConfig config)
    {
        _config = config;
        Weights = new double[config.Features];
        Velocity = new double[config.Features];
        _rows = new double[config.Batch * config.Features];
        _targets = new double[config.Batch];
    }

    /// <summary>Steps completed.</summary>
    public long Step { get; set; }

    public double[] Weights { get; }

    public double[] Velocity { get; }

    /// <summary>Trains one step; returns the minibatch loss before the update.</summary>
    public double TrainStep()
    {
        var d = _config.Features;
        var batch = _config.Batch;
        for (var b = 0; b < batch; b++)
        {
            var sample = (long)(Hash(_config.Seed, 1, (ulong)Step, (ulong)b) % (ulong)_config.Samples);
            var target = 0.0;
            var row = _rows.AsSpan(b * d, d);
            for (var j = 0; j < d; j++)
            {
                row[j] = Uniform(Hash(_config.Seed, 2, (ulong)sample, (ulong)j));
                target += row[j] * TrueWeight(j);
            }

            _targets[b] = target + (0.01 * Uniform(Hash(_config.Seed, 3, (ulong)sample, 0)));
        }

        var loss = 0.0;
        var gradient = new double[d];
        for (var b = 0; b < batch; b++)
        {
            var row = _rows.AsSpan(b * d, d);
            var prediction = 0.0;
            for (var j = 0; j < d; j++)
            {
                prediction += row[j] * Weights[j];
            }

            var error = prediction - _targets[b];
            loss += error * error;
            for (var j = 0; j < d; j++)
            {
                gradient[j] += error * row[j];
            }
        }

        for (var j = 0; j < d; j++)
        {
            Velocity[j] = (_config.Momentum * Velocity[j]) + (gradient[j] / batch);
            Weights[j] -= _config.LearningRate * Velocity[j];
        }

        Step++;
        return loss / (2 * batch);
    }

    private static double TrueWeight(int j) => Math.Sin(j * 0.37) * 0.1;

    private static double Uniform(ulong hash) => ((hash >> 11) * (1.0 / (1UL << 53)) * 2) - 1;

    // SplitMix64 over the mixed inputs: fast, well spread, and the same on every machine.
    private static ulong Hash(ulong seed, ulong stream, ulong a, ulong b)
    {
        var x = seed * 0x9E3779B97F4A7C15UL ^ stream * 0xBF58476D1CE4E5B9UL ^ a * 0x94D049BB133111EBUL ^ b * 0xD6E8FEB86659FD93UL;
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
