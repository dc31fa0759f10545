using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.Evaluate.Standard;
using Optimizer.Domain.Methods.Quantize.Rtn;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Evaluate.Standard;
using Optimizer.Worker.Methods.Quantize.Rtn;

namespace Optimizer.Worker.Tests.Execution;

public sealed class PipelineRegistryTests
{
    [Fact]
    public void Build_ServesEveryCatalogMethod_ForTheWorkerAssembly()
    {
        var registry = PipelineRegistry.Build();

        Assert.Equal(MethodCatalog.All.Count, registry.Entries.Count);
        Assert.Equal(typeof(RtnPipeline), registry.Find("quantize", "rtn")!.PipelineType);
        Assert.Equal(typeof(EvaluateStandardPipeline), registry.Find("evaluate", "standard")!.PipelineType);
    }

    [Fact]
    public void Build_Throws_WhenTwoPipelinesServeOneMethod()
    {
        var ex = Assert.Throws<InvalidOperationException>(() =>
            PipelineRegistry.Build([typeof(RtnPipeline), typeof(DuplicateRtnPipeline), typeof(EvaluateStandardPipeline)], MethodCatalog.All));

        Assert.Contains("quantize/rtn", ex.Message);
        Assert.Contains("two pipelines", ex.Message);
    }

    [Fact]
    public void Build_Throws_WhenAPipelineServesAnUndeclaredMethod()
    {
        var ex = Assert.Throws<InvalidOperationException>(() =>
            PipelineRegistry.Build([typeof(UndeclaredPipeline)], MethodCatalog.All));

        Assert.Contains("quantize/nonexistent", ex.Message);
    }

    [Fact]
    public void Build_Throws_WhenACatalogMethodHasNoPipeline()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => PipelineRegistry.Build([typeof(RtnPipeline)], MethodCatalog.All));

        Assert.Contains("evaluate/standard", ex.Message);
    }

    [Fact]
    public void Build_Throws_WhenOptionsTypeDiffersFromCatalog()
    {
        var ex = Assert.Throws<InvalidOperationException>(() =>
            PipelineRegistry.Build([typeof(WrongOptionsPipeline), typeof(EvaluateStandardPipeline)], MethodCatalog.All));

        Assert.Contains(nameof(EvaluateStandardOptions), ex.Message);
    }

    [JobPipeline("quantize", "rtn")]
    private sealed class DuplicateRtnPipeline : IJobPipeline<RtnOptions>
    {
        public Task<PipelineResult> RunAsync(PipelineContext context, RtnOptions options, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }

    [JobPipeline("quantize", "nonexistent")]
    private sealed class UndeclaredPipeline : IJobPipeline<RtnOptions>
    {
        public Task<PipelineResult> RunAsync(PipelineContext context, RtnOptions options, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }

    [JobPipeline("quantize", "rtn")]
    private sealed class WrongOptionsPipeline : IJobPipeline<EvaluateStandardOptions>
    {
        public Task<PipelineResult> RunAsync(PipelineContext context, EvaluateStandardOptions options, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
