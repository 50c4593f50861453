/* Gallery counter: two buttons around a number. */
jQuery(function ($) {
    $(".gallery-counter").each(function () {
        var $body = $(this).find(".gallery-body"), value = Number($(this).data("text")) || 0;
        var $value = $("<span class='counter-value'/>").text(value);
        function button(label, step) {
            return $("<button type='button'/>").text(label).on("click", function () {
                value += step;
                $value.text(value);
            });
        }
        $body.empty().append(button("-", -1), $value, button("+", 1));
        $(this).addClass("gallery-ready");
    });
});
