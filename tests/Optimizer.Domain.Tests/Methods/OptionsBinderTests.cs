using System.Text.Json;
using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.Quantize.Rtn;

namespace Optimizer.Domain.Tests.Methods;

public sealed class OptionsBinderTests
{
    private static readonly MethodDescriptor Rtn = MethodCatalog.Find("quantize", "rtn")!;

    private static BindResult Bind(string json) => OptionsBinder.Bind(Rtn, JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Bind_FillsDefaults_WhenParamsAreEmpty()
    {
        var result = Bind("{}");
        var options = Assert.IsType<RtnOptions>(result.Options);
        Assert.Equal(4, options.Bits);
        Assert.Equal(128, options.GroupSize);
        Assert.False(options.Symmetric);
    }

    [Fact]
    public void Bind_ReadsSnakeCaseFields()
    {
        var options = Assert.IsType<RtnOptions>(Bind("""{"bits":8,"group_size":-1,"symmetric":true}""").Options);
        Assert.Equal(new RtnOptions { Bits = 8, GroupSize = -1, Symmetric = true }, options);
    }

    [Theory]
    [InlineData("""{"bits":"four"}""", "params.bits")]
    [InlineData("""{"bits":"4"}""", "params.bits")]
    [InlineData("""{"bits":9}""", "params.bits")]
    [InlineData("""{"bits":1}""", "params.bits")]
    [InlineData("""{"group_size":100}""", "params.group_size")]
    [InlineData("""{"nonsense":1}""", "params")]
    [InlineData("""[1]""", "params")]
    public void Bind_ReportsTheField_WhenParamsAreInvalid(string json, string field)
    {
        var result = Bind(json);
        Assert.False(result.IsValid);
        Assert.Contains(result.Errors.Keys, k => k.StartsWith(field, StringComparison.Ordinal));
    }

    [Fact]
    public void Catalog_ListsRtnAndEvaluate_WithSchemaDefaults()
    {
        Assert.Contains(MethodCatalog.All, m => m.Key == "evaluate/standard");
        var bits = Rtn.ParamsSchema["properties"]!["bits"]!;
        Assert.Equal(4, bits["default"]!.GetValue<int>());
        Assert.Equal(2.0, bits["minimum"]!.GetValue<double>());
        Assert.Equal(8.0, bits["maximum"]!.GetValue<double>());
        Assert.False(Rtn.ParamsSchema["additionalProperties"]!.GetValue<bool>());
    }
}
