using System.Buffers.Binary;
using System.Text;
using Optimizer.Domain.Formats.Safetensors;

namespace Optimizer.Domain.Tests.Formats;

public sealed class SafetensorsHeaderTests
{
    private static SafetensorsHeader Parse(string json, long? dataLength) =>
        SafetensorsHeader.Parse(Encoding.UTF8.GetBytes(json), dataLength);

    [Fact]
    public void Parse_ReturnsTensorsInOffsetOrder_WhenHeaderIsValid()
    {
        var header = Parse("""
            {"__metadata__":{"format":"pt"},
             "b":{"dtype":"F16","shape":[2],"data_offsets":[24,28]},
             "a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}
            """, 28);

        Assert.Equal(["a", "b"], header.Tensors.Select(t => t.Name));
        Assert.Equal(6, header.Tensors[0].ElementCount);
        Assert.Equal("pt", header.Metadata["format"]);
        Assert.Equal(28, header.DataLength);
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}""", 4, "dtype")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", 4, "needs 8 bytes")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}""", 6, "overlaps")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12, "gap")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 2, "file has 2")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 8, "after the last tensor")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "duplicate")]
    [InlineData("""[1,2]""", 0, "not a JSON object")]
    [InlineData("""{"a":""", 0, "not valid JSON")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, "dimension")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""", 4, "data_offsets")]
    public void Parse_Throws_WhenHeaderBreaksTheFormat(string json, long dataLength, string expected)
    {
        var ex = Assert.Throws<SafetensorsFormatException>(() => Parse(json, dataLength));
        Assert.Contains(expected, ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Parse_Throws_WhenHeaderIsNotUtf8()
    {
        byte[] bytes = [(byte)'{', 0xff, 0xfe, (byte)'}'];
        var ex = Assert.Throws<SafetensorsFormatException>(() => SafetensorsHeader.Parse(bytes, 0));
        Assert.Contains("UTF-8", ex.Message);
    }

    [Theory]
    [InlineData(0L, 100L, "outside")]
    [InlineData(200_000_000L, 300_000_000L, "outside")]
    [InlineData(64L, 40L, "beyond the end")]
    public void ReadHeaderLength_Throws_WhenLengthIsOutOfRange(long length, long fileLength, string expected)
    {
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)length);
        var ex = Assert.Throws<SafetensorsFormatException>(() => SafetensorsHeader.ReadHeaderLength(prefix, fileLength));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void ReadHeaderLength_Throws_WhenPrefixIsTruncated()
    {
        Assert.Throws<SafetensorsFormatException>(() => SafetensorsHeader.ReadHeaderLength(new byte[5], 5));
    }
}
