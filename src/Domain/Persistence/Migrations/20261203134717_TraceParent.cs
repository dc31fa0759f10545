using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Optimizer.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class TraceParent : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "TraceParent",
                schema: "optimizer",
                table: "jobs",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "TraceParent",
                schema: "optimizer",
                table: "jobs");
        }
    }
}
