"""What the report and SPEC.md fix: figure ids, the files each experiment's figures command
writes, and the AC-GAN's architecture table."""

from __future__ import annotations

# Every figure id of SPEC.md, in the report's order.
SPEC_IDS = ["fig01", "fig02", "fig03", "fig03b", "fig04", "fig05", "fig06", "vae_grid.gif",
            "vae_latent.gif", "fig07", "fig08", "fig09", "fig10", "fig11", "fig12", "dcgan.gif",
            "fig13", "fig14", "fig15", "fig16", "fig17", "fig18", "fig19", "fig20", "fig21",
            "cgan.gif", "table1", "fig22", "fig23", "fig24", "fig25", "fig26", "fig27", "fig28",
            "acgan.gif"]

# The files `figures vae`, `figures dcgan`, `figures cgan` and `figures acgan` write.
Q1_FILES = ["fig01.png", "fig02.png", "fig03.png", "fig03b.png", "fig04.png", "fig05.png",
            "fig06.png", "vae_grid.gif", "vae_latent.gif"]

Q2_FILES = ["fig09.png", "fig10.png", "fig11.png", "fig11_ema.png", "fig12.png", "dcgan.gif"]

# The last class grid also has the averaged generator's grid beside it (figNN_ema.png).
Q3_FILES = {"cgan": ["fig13.png", "fig14.png"] + [f"fig{i}.png" for i in range(15, 22)]
            + ["fig20_ema.png", "cgan.gif"],
            "acgan": ["table1.md", "table1.png"] + [f"fig{i}.png" for i in range(22, 29)]
            + ["fig27_ema.png", "acgan.gif"]}

# SPEC.md, "Q3 - AC-GAN on CIFAR-10": the paper's table, row by row.
SPEC_TABLE = [
    ["G input: 110 × 1 × 1 (100 noise + 10 class)", "", "", "", "", "", ""],
    ["linear", "N/A", "N/A", "384", "no", "0.0", "ReLU"],
    ["transposed conv", "5×5", "2×2", "192", "yes", "0.0", "ReLU"],
    ["transposed conv", "5×5", "2×2", "96", "yes", "0.0", "ReLU"],
    ["transposed conv", "5×5", "2×2", "3", "no", "0.0", "tanh"],
    ["D input: 32 × 32 × 3", "", "", "", "", "", ""],
    ["conv", "3×3", "2×2", "16", "no", "0.5", "LeakyReLU"],
    ["conv", "3×3", "1×1", "32", "yes", "0.5", "LeakyReLU"],
    ["conv", "3×3", "2×2", "64", "yes", "0.5", "LeakyReLU"],
    ["conv", "3×3", "1×1", "128", "yes", "0.5", "LeakyReLU"],
    ["conv", "3×3", "2×2", "256", "yes", "0.5", "LeakyReLU"],
    ["conv", "3×3", "1×1", "512", "yes", "0.5", "LeakyReLU"],
    ["linear", "N/A", "N/A", "11", "no", "0.0", "soft-sigmoid"],
]
