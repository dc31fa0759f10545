using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.Routing;

namespace Optimizer.Domain.Tests.Methods;

public sealed class MethodQueueRoutesTests
{
    private static MethodDescriptor M(string type, string method) => MethodCatalog.Find(type, method)!;

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" , ")]
    public void Parse_KeepsEveryDeclaredQueue_WhenNothingIsRouted(string? setting)
    {
        var routes = MethodQueueRoutes.Parse(setting, MethodCatalog.All);

        Assert.Empty(routes.Rules);
        Assert.All(MethodCatalog.All, m => Assert.Equal(m.Queue, routes.QueueFor(m)));
    }

    [Fact]
    public void QueueFor_SendsEveryMethodOfATypeToItsQueue_AndLeavesOtherTypes()
    {
        var routes = MethodQueueRoutes.Parse("finetune/*=gpu", MethodCatalog.All);

        Assert.All(MethodCatalog.All, m => Assert.Equal(m.Type == "finetune" ? "gpu" : m.Queue, routes.QueueFor(m)));
        Assert.Equal(["gpu"], routes.RoutedQueues);
    }

    [Fact]
    public void QueueFor_PrefersTheMethodsOwnRule_OverItsTypeRule()
    {
        var routes = MethodQueueRoutes.Parse(" finetune/lora = cpu , FineTune/* = gpu, quantize/gptq=gpu_big ", MethodCatalog.All);

        Assert.Equal("cpu", routes.QueueFor(M("finetune", "lora")));
        Assert.Equal("gpu", routes.QueueFor(M("finetune", "pissa")));
        Assert.Equal("gpu_big", routes.QueueFor(M("quantize", "gptq")));
        Assert.Equal("cpu", routes.QueueFor(M("quantize", "rtn")));
        Assert.Equal(new HashSet<string> { "cpu", "gpu", "gpu_big" }, routes.RoutedQueues);
    }

    [Theory]
    [InlineData("finetune/lorax=gpu", "'finetune/lorax' names no method", "finetune/lora")]
    [InlineData("tune/*=gpu", "'tune/*' names no job type", "finetune")]
    [InlineData("finetune=gpu", "expected 'type/method=queue'", "finetune=gpu")]
    [InlineData("finetune/*", "expected 'type/method=queue'", "finetune/*")]
    [InlineData("finetune/*=", "expected 'type/method=queue'", "")]
    [InlineData("/lora=gpu", "expected 'type/method=queue'", "")]
    [InlineData("finetune/*=gpu=x", "expected 'type/method=queue'", "")]
    [InlineData("finetune/*=GPU", "queue 'GPU' must be lowercase", "")]
    [InlineData("finetune/*=webhooks", "reserved for webhook deliveries", "")]
    [InlineData("finetune/*=gpu,finetune/*=cpu", "'finetune/*' is routed more than once", "")]
    public void Parse_NamesTheRuleAndTheProblem_WhenARuleIsInvalid(string setting, string problem, string hint)
    {
        var error = Assert.Throws<FormatException>(() => MethodQueueRoutes.Parse(setting, MethodCatalog.All));

        Assert.StartsWith(MethodQueueRoutes.SettingName + ": '", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.Contains(hint, error.Message);
    }
}
