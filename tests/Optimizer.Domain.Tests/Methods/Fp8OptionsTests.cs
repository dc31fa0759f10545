using System.Text.Json;
using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.Quantize.Fp8;

namespace Optimizer.Domain.Tests.Methods;

public sealed class Fp8OptionsTests
{
    private static readonly MethodDescriptor Fp8 = MethodCatalog.Find("quantize", "fp8")!;

    private static BindResult Bind(string json) => OptionsBinder.Bind(Fp8, JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Bind_FillsDefaults_WhenParamsAreEmpty()
    {
        var options = Assert.IsType<Fp8Options>(Bind("{}").Options);
        Assert.Equal(new Fp8Options { Format = "e4m3", Granularity = "channel", Activations = "none" }, options);
    }

    [Fact]
    public void Bind_ReadsEveryAllowedValue()
    {
        var options = Assert.IsType<Fp8Options>(Bind("""{"format":"e5m2","granularity":"tensor","activations":"int8"}""").Options);
        Assert.Equal(new Fp8Options { Format = "e5m2", Granularity = "tensor", Activations = "int8" }, options);
    }

    [Theory]
    [InlineData("""{"format":"e3m4"}""", "params.format")]
    [InlineData("""{"granularity":"group"}""", "params.granularity")]
    [InlineData("""{"activations":"fp4"}""", "params.activations")]
    public void Bind_ReportsTheField_WhenValueIsNotAllowed(string json, string field)
    {
        var result = Bind(json);
        Assert.False(result.IsValid);
        Assert.Contains(result.Errors.Keys, k => k.StartsWith(field, StringComparison.Ordinal));
    }

    [Fact]
    public void Catalog_ListsFp8_WithEnumsInTheSchema()
    {
        var format = Fp8.ParamsSchema["properties"]!["format"]!;
        Assert.Equal("e4m3", format["default"]!.GetValue<string>());
        Assert.Equal(["e4m3", "e5m2"], format["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
    }
}
