namespace GenAI.Training.Tests;

/// <summary>
/// Test classes that train inside this process. Dropout draws from libtorch's one process-wide generator, so two runs
/// side by side would take each other's draws and the exact-resume checks would fail by chance: they run one at a time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InProcessTraining
{
    public const string Name = "In-process training";
}
