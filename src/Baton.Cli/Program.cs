using Baton.Cli;

// Pushes and pulls do blocking file I/O (unbuffered writes and reads, fsync) on pool threads; with only one pool
// thread per core to start with, a blocked thread idles a core until the pool notices. Start with spare threads.
ThreadPool.GetMinThreads(out var workers, out var completions);
ThreadPool.SetMinThreads(Math.Max(workers, Environment.ProcessorCount + 8), completions);

return await BatonApp.RunAsync(args);
