"""CelebA, target Blond_Hair with spurious Male (torchvision or WILDS layout), and its stand-in."""
