using BenchmarkDotNet.Running;

// bench/run micro [--filter *Codec*] [--job short]: BenchmarkDotNet over the push and pull hot paths.
BenchmarkSwitcher.FromAssembly(typeof(Baton.Bench.Micro.MicroData).Assembly).Run(args);
