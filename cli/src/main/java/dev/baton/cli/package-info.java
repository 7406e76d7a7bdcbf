/** Null-checked: nothing here is null unless marked {@code @Nullable}. */
@NullMarked
package dev.baton.cli;

import org.jspecify.annotations.NullMarked;
