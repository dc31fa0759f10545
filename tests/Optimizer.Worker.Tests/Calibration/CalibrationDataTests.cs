using System.Text.Json.Nodes;
using Optimizer.Worker.Calibration;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Calibration;

public sealed class CalibrationDataTests
{
    [Fact]
    public void LoadModel_FailsAsInvalidModelNamingTheArchitecture_WhenModelIsNotLlamaFamily()
    {
        using var dir = new TempDirectory();
        TinyLlama.Write(dir.Path);
        var configPath = Path.Combine(dir.Path, ModelFolder.ConfigFileName);
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["architectures"] = new JsonArray("BertModel");
        File.WriteAllText(configPath, config.ToJsonString());
        using var folder = ModelFolder.Open(dir.Path);

        var error = Assert.Throws<JobFailedException>(() => CalibrationData.LoadModel(folder, "Wanda"));

        Assert.Equal(JobErrorCodes.InvalidModel, error.Code);
        Assert.Contains("BertModel", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadModel_BuildsTheModel_WhenModelIsLlama()
    {
        using var dir = new TempDirectory();
        TinyLlama.Write(dir.Path);
        using var folder = ModelFolder.Open(dir.Path);

        using var model = CalibrationData.LoadModel(folder, "Wanda");

        Assert.Equal(TinyLlama.Layers, model.Model.Layers.Count);
    }
}
