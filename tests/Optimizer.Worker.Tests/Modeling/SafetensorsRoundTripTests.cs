using System.Buffers.Binary;
using System.Text;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Modeling;

public sealed class SafetensorsRoundTripTests
{
    public static TheoryData<string> TorchDtypes => new()
    {
        "F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL",
    };

    private static Tensor RandomTensor(SafetensorsDtype dtype, long[] shape)
    {
        var generator = new torch.Generator(1234);
        using var normal = torch.randn(shape, generator: generator) * 50;
        return dtype switch
        {
            SafetensorsDtype.BOOL => normal.gt(0),
            SafetensorsDtype.U8 => normal.abs().clamp(0, 255).to(ScalarType.Byte),
            _ => normal.to(dtype.ToTorch()),
        };
    }

    [Theory]
    [MemberData(nameof(TorchDtypes))]
    public void ReadTensor_EqualsWrittenTensor_ForEveryTorchDtype(string dtypeName)
    {
        var dtype = Enum.Parse<SafetensorsDtype>(dtypeName);
        using var directory = new TempDirectory();
        using var matrix = RandomTensor(dtype, [3, 5]);
        using var vector = RandomTensor(dtype, [7]);
        using var scalar = RandomTensor(dtype, []);
        new SafetensorsWriter().Add("m", matrix).Add("v", vector).Add("s", scalar).Save(directory.File("t.safetensors"));

        using var file = SafetensorsFile.Open(directory.File("t.safetensors"));
        using var m = file.ReadTensor("m");
        using var v = file.ReadTensor("v");
        using var s = file.ReadTensor("s");

        Assert.Equal(dtype, file.GetEntry("m").Dtype);
        Assert.Equal(matrix.dtype, m.dtype);
        Assert.Equal(new long[] { 3, 5 }, m.shape);
        TensorAssert.Equal(matrix, m);
        TensorAssert.Equal(vector, v);
        TensorAssert.Equal(scalar, s);
        Assert.Empty(s.shape);
    }

    [Theory]
    [InlineData("F8_E4M3")]
    [InlineData("F8_E5M2")]
    public void ReadTensor_DecodesEveryFp8Code_WhenWrittenAsRawBytes(string dtypeName)
    {
        var dtype = Enum.Parse<SafetensorsDtype>(dtypeName);
        var codes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        using var directory = new TempDirectory();
        new SafetensorsWriter().Add("w", dtype, [16, 16], codes).Save(directory.File("f8.safetensors"));

        using var file = SafetensorsFile.Open(directory.File("f8.safetensors"));
        using var decoded = file.ReadTensor("w");
        var values = decoded.data<float>().ToArray();

        Assert.Equal(ScalarType.Float32, decoded.dtype);
        Assert.Equal(codes, file.GetBytes("w").ToArray());
        for (var i = 0; i < 256; i++)
        {
            var expected = dtype == SafetensorsDtype.F8_E4M3 ? Fp8.Decode((byte)i, Fp8Format.E4M3) : Fp8.Decode((byte)i, Fp8Format.E5M2);
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(values[i]));
        }
    }

    [Fact]
    public void Save_WritesReferenceLayout_WithPaddedHeaderAndPtMetadata()
    {
        using var directory = new TempDirectory();
        using var wide = torch.ones(3, dtype: ScalarType.Float64);
        new SafetensorsWriter()
            .Add("b_bytes", SafetensorsDtype.U8, [3], new byte[] { 1, 2, 3 })
            .Add("a_wide", wide)
            .Save(directory.File("x.safetensors"));

        var bytes = File.ReadAllBytes(directory.File("x.safetensors"));
        var headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var json = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        var header = SafetensorsHeader.Parse(bytes.AsSpan(8, (int)headerLength), bytes.Length - 8 - headerLength);

        Assert.Equal(0, headerLength % 8);
        Assert.StartsWith("{\"__metadata__\":{\"format\":\"pt\"}", json);
        Assert.Equal("pt", header.Metadata["format"]);
        Assert.Equal(["a_wide", "b_bytes"], header.Tensors.Select(t => t.Name));
        Assert.Equal(new byte[] { 1, 2, 3 }, bytes[^3..]);
    }

    [Fact]
    public void Save_DisposesProducedTensor_AndChecksItsDeclaredShape()
    {
        using var directory = new TempDirectory();
        Tensor? produced = null;
        new SafetensorsWriter()
            .Add("lazy", SafetensorsDtype.F32, [2, 2], () => produced = torch.full(2, 2, 1.5f))
            .Save(directory.File("lazy.safetensors"));
        var wrongShape = new SafetensorsWriter().Add("bad", SafetensorsDtype.F32, [3], () => torch.zeros(4));

        using var file = SafetensorsFile.Open(directory.File("lazy.safetensors"));
        using var read = file.ReadTensor("lazy");

        Assert.NotNull(produced);
        Assert.True(produced!.IsInvalid);
        Assert.Equal([1.5f, 1.5f, 1.5f, 1.5f], read.data<float>().ToArray());
        Assert.Throws<InvalidOperationException>(() => wrongShape.WriteTo(Stream.Null));
    }

    [Fact]
    public void Add_Throws_WhenRawByteCountDoesNotMatchShape()
    {
        var writer = new SafetensorsWriter();

        var error = Assert.Throws<ArgumentException>(() => writer.Add("x", SafetensorsDtype.F16, [3], new byte[5]));

        Assert.Equal("data", error.ParamName);
    }

    [Fact]
    public void Open_ThrowsFormatException_WhenFileIsTruncated()
    {
        using var directory = new TempDirectory();
        using var tensor = torch.ones(10);
        new SafetensorsWriter().Add("x", tensor).Save(directory.File("ok.safetensors"));
        var bytes = File.ReadAllBytes(directory.File("ok.safetensors"));
        File.WriteAllBytes(directory.File("cut.safetensors"), bytes[..^4]);

        Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(directory.File("cut.safetensors")));
    }
}
