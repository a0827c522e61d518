"""Model parts added to the SVD backbone: pose encoder, identity module, their installation."""
