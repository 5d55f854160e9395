using GenAI.Training.Jobs;

namespace GenAI.Training.Tests.Jobs;

public sealed class FineTuningPlanTests
{
    [Fact]
    public void AutoHyperparametersAreResolvedFromTheData()
    {
        var plan = FineTuningPlan.Resolve(new JobHyperparameters(), trainTokens: 9000, validationTokens: 1000, contextLength: 128);
        Assert.Equal(128, plan.BlockSize); // the model's context, below the 256 cap
        Assert.Equal(FineTuningPlan.AutoEpochs, plan.NEpochs);
        Assert.Equal(7, plan.BatchSize); // 70 windows / 10
        Assert.Equal((int)Math.Ceiling(3.0 * 9000 / (7 * 128)), plan.Steps);
        Assert.Equal(FineTuningPlan.BaseLearningRate, plan.LearningRate);

        var capped = FineTuningPlan.Resolve(new JobHyperparameters { NEpochs = 2, BatchSize = 2, LearningRateMultiplier = 0.5, MaxSteps = 5 }, 9000, 1000, 1024);
        Assert.Equal((2, 2, 5, 256), (capped.NEpochs, capped.BatchSize, capped.Steps, capped.BlockSize));
        Assert.Equal(5e-5, capped.LearningRate, 12);
        Assert.Equal(5, capped.ToTrainingOptions(1).MaxIters);

        Assert.Equal(48, FineTuningPlan.Resolve(new(), 500, 50, 128).BlockSize); // the validation split bounds the window
        Assert.Throws<InvalidDataException>(() => FineTuningPlan.Resolve(new(), 500, 5, 128));
        Assert.Equal("hyperparameters.n_epochs", Assert.Throws<ArgumentException>(() => FineTuningPlan.Validate(new() { NEpochs = 0 })).ParamName);
    }
}
