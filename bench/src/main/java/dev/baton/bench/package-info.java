/** Null-checked: nothing here is null unless marked {@code @Nullable}. */
@NullMarked
package dev.baton.bench;

import org.jspecify.annotations.NullMarked;
