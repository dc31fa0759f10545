using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Optimizer.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class Recovery : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "HeartbeatAt",
                schema: "optimizer",
                table: "jobs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "WorkerId",
                schema: "optimizer",
                table: "jobs",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "HeartbeatAt",
                schema: "optimizer",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "WorkerId",
                schema: "optimizer",
                table: "jobs");
        }
    }
}
