using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Optimizer.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class SparsityPattern : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "SparsityPattern",
                schema: "optimizer",
                table: "models",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "SparsityPattern",
                schema: "optimizer",
                table: "models");
        }
    }
}
