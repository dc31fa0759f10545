using Optimizer.Worker.Modeling.Onnx;

namespace Optimizer.Worker.Tests.Modeling.Onnx;

public sealed class OnnxGraphTests
{
    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value != 0 ? (byte)(b | 0x80) : b);
        }
        while (value != 0);
        return [.. bytes];
    }

    private static byte[] Field(int number, byte[] payload) => [.. Varint((ulong)(number << 3 | 2)), .. Varint((ulong)payload.Length), .. payload];

    private static byte[] VarintField(int number, ulong value) => [.. Varint((ulong)(number << 3)), .. Varint(value)];

    private static byte[] Text(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    [Fact]
    public void Parse_ReadsNodesInitializersAndConstants_FromHandWrittenModel()
    {
        // TensorProto "w": dims [2, 3] packed, FLOAT, raw_data; then one with dims unpacked and float_data.
        var raw = new float[] { 1, 2, 3, 4, 5, 6 }.SelectMany(BitConverter.GetBytes).ToArray();
        byte[] weight = [.. Field(1, [.. Varint(2), .. Varint(3)]), .. VarintField(2, 1), .. Field(8, Text("w")), .. Field(9, raw)];
        byte[] constantTensor = [.. VarintField(1, 2), .. VarintField(2, 1), .. Field(4, new float[] { 7, 8 }.SelectMany(BitConverter.GetBytes).ToArray())];
        byte[] constantNode = [.. Field(2, Text("c")), .. Field(4, Text("Constant")), .. Field(5, [.. Field(1, Text("value")), .. Field(5, constantTensor)])];
        byte[] matMul = [.. Field(1, Text("x")), .. Field(1, Text("w")), .. Field(2, Text("y")), .. Field(3, Text("mm")), .. Field(4, Text("MatMul"))];
        byte[] graph = [.. Field(1, constantNode), .. Field(1, matMul), .. Field(2, Text("g")), .. Field(5, weight),
            .. Field(11, Field(1, Text("x"))), .. Field(12, Field(1, Text("y")))];
        byte[] model = [.. VarintField(1, 7), .. Field(7, graph)];

        var parsed = OnnxGraph.Parse(model);

        Assert.Equal(["x"], parsed.Inputs);
        Assert.Equal(["y"], parsed.Outputs);
        var node = parsed.Nodes.Single(n => n.OpType == "MatMul");
        Assert.Equal("mm", node.Name);
        Assert.Equal(["x", "w"], node.Inputs);
        Assert.Equal(["y"], node.Outputs);
        Assert.Equal([2L, 3L], parsed.Initializers["w"].Dims);
        Assert.Equal([1f, 2, 3, 4, 5, 6], parsed.Initializers["w"].ToFloats());
        Assert.Equal([7f, 8], parsed.Initializers["c"].ToFloats());
    }

    [Fact]
    public void Parse_Throws_WhenModelHasNoGraph()
    {
        Assert.Throws<InvalidDataException>(() => OnnxGraph.Parse(VarintField(1, 7)));
    }
}
