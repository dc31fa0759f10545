using Optimizer.Worker.Fixtures;

namespace Optimizer.Worker.Tests.Fixtures;

public sealed class FixtureRecipeTests
{
    [Fact]
    public void Hash_ChangesWithAnyIngredient_AndIsStableOtherwise()
    {
        var recipe = new FixtureRecipe { CorpusSplit = "split", DataDigest = "abc" };

        Assert.Equal(recipe.Hash(), (recipe with { }).Hash());
        Assert.NotEqual(recipe.Hash(), (recipe with { Steps = recipe.Steps + 1 }).Hash());
        Assert.NotEqual(recipe.Hash(), (recipe with { DataDigest = "abd" }).Hash());
        Assert.NotEqual(recipe.Hash(), (recipe with { Code = "fixture-trainer/v0" }).Hash());
        Assert.Equal(16, recipe.Hash().Length);
    }

    [Fact]
    public void LearningRate_WarmsUpLinearly_ThenDecaysToFloor()
    {
        var recipe = new FixtureRecipe { Steps = 120, WarmupSteps = 20, PeakLearningRate = 1e-3, MinLearningRateRatio = 0.1 };
        var trainer = new FixtureTrainer(recipe, _ => { });

        Assert.Equal(1e-3 / 20, trainer.LearningRate(0), 1e-12);
        Assert.Equal(1e-3, trainer.LearningRate(20), 1e-12);
        Assert.Equal(1e-3 * (0.1 + 0.9 * 0.5), trainer.LearningRate(70), 1e-12);
        Assert.True(trainer.LearningRate(119) > 1e-4 && trainer.LearningRate(119) < 1.01e-4);
    }

    [Fact]
    public void ToJson_OmitsCompactVocabulary_WhenOff_SoTheTestFixtureHashIsUnchanged()
    {
        var recipe = new FixtureRecipe { CorpusSplit = "split", DataDigest = "abc" };

        Assert.DoesNotContain("compact_vocabulary", recipe.ToJson(), StringComparison.Ordinal);
        Assert.NotEqual(recipe.Hash(), (recipe with { CompactVocabulary = true }).Hash());
        Assert.True(FixtureRecipe.Bench.CompactVocabulary && FixtureRecipe.Bench.HiddenSize >= 256 && FixtureRecipe.Bench.Layers >= 6);
    }
}
