/** Null-checked: nothing here is null unless marked {@code @Nullable}. */
@NullMarked
package dev.baton.os;

import org.jspecify.annotations.NullMarked;
