namespace Optimizer.Worker.Methods.FineTune.Shared;

/// <summary>Linear warm-up to the peak learning rate, then cosine decay to <c>peak × minRatio</c> at the last step.</summary>
public sealed record CosineSchedule(double Peak, int WarmupSteps, int TotalSteps, double MinRatio)
{
    /// <summary>The learning rate of 0-based <paramref name="step"/>.</summary>
    public double At(int step)
    {
        if (step < WarmupSteps)
        {
            return Peak * (step + 1) / WarmupSteps;
        }
        var progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps - 1);
        var cosine = 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, progress)));
        return Peak * (MinRatio + (1 - MinRatio) * cosine);
    }
}
